"""Multi-region payment data (seed 004): a global table, a processor and its API in two regions,
and DNS failover between them. One module per stack, named after the stack; see
docs/global-data.md."""
