"""Apps and their forms: create, save drafts, publish immutable versions, compile and cache
them (`definitions`), their indexes (`indexes`), field-level permissions per role
(`permissions`), and the version numbering shared with flows (`versions`)."""
