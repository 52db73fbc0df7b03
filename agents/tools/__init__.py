"""Tools, one module per data family. Each returns Evidence and reports progress as a timeline step."""
