"""Records: create, read, change, delete and restore (`operations`), who may see and do
what (`access`), the filter language and keyset pages (`filters`, `query`), duplicates,
derived values over related records (`derived`), lookups (`resolver`), batches, writing
many new records at once (`new_records`, `bulk_insert`), and the change hook
(`changes`) that packages above records subscribe to."""
