"""Who is who: tenants, users and their passwords, departments (a tree with heads), roles,
API tokens, and the directory of people that flows ask for approvers."""
