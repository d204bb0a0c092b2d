"""The payment platform: configuration, base stack, reusable constructs and the stacks."""
