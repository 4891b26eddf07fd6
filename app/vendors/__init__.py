"""An organisation's vendors: CRUD, search and keyset pagination."""
