"""How records' JSON data lives in SQL: one expression per data field, written alike in
queries and indexes (`data_fields`); how each field type compares and is searched
(`kinds`); SQL plans with bound values (`sql_plans`); the safe filter language that plans
them (`filters`: lists, saved views, related roll-ups); record counts per form (`stats`)."""
