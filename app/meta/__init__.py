"""Reference data and the API's own description."""
