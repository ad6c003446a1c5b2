"""One module per area of the API, each a Litestar Controller (or a list of handlers) under /v1."""
