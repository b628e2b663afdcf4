"""The HTTP service: the app and its routes, background batches, the review queue, the web page."""
