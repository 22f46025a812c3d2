"""The shipped templates' sample records, made by a seeded generator and written into the
bundles as data, so every install is identical (and a reviewer can read what is shipped).

Each template has a module here with `records(rng) -> {form key: [sample record, ...]}`;
`python -m templates_gallery.samples` runs them all with a fixed seed and rewrites the
`sample_data` of each bundle in `templates_gallery/bundles/`. The shared pools of realistic
Chinese and English company, person and place names are in `names`.
"""
