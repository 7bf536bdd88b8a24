"""The HTTP side: the results API's routes, its OpenAPI document, CORS and signed upload URLs."""
