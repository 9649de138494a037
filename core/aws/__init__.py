"""AWS: clients and credentials, IAM policy, the resource ledger, pricing, names, regions, the sandbox."""
