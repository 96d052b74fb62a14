"""The service API's routers, one module per calling system's area (``api.v1.ROUTERS``)."""
