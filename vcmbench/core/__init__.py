"""Foundation shared by every stage: errors and exit codes, records, signatures, atomic JSON,
content hashes, registries, packaged resources and running external processes.

Nothing here imports a later stage (a test walks the imports)."""
