"""What leaves Loom after its transaction commits: the outbox of e-mails and webhooks,
delivered with leases and retries (`outbox`), and each webhook posted only to the address
that was checked (`webhooks`)."""
