"""Security and accounts: who may see and do what, users and tokens, passwords, login sessions and
throttling, the privacy audit."""
