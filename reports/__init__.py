"""Reports built from cloud assemblies: compliance evidence for auditors, cost for finance."""
