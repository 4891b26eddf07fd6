"""The audit log: who changed what, when, from where, in the transaction of the change."""
