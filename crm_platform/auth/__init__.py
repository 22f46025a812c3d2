"""Identity: password hashing, API tokens, login throttling and the current principal."""
