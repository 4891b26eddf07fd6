"""HTTP concerns shared by every blueprint: request ids, errors, compression, body parsing."""
