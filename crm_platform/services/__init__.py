"""Services: the platform's operations. Each takes a session (or a TenantScope) and the
acting principal, checks permissions itself, and never commits."""
