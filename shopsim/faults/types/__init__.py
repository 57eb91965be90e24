"""One module per fault type; shopsim.faults.table lists them."""
