"""Records: create, read, change, delete and restore (`operations`), who may see and do
what (`access`), keyset pages (`query`; the filter language is storage's `filters`),
duplicates, derived values over related records (`derived`) and over the date (`dated`),
lookups (`resolver`), owners and the pool (`owners`), batches, writing many new records
at once (`new_records`, `bulk_insert`), and the change hook (`changes`) that packages
above records subscribe to."""
