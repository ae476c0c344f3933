"""The dashboard's HTTP API: the stream, the console's read models, actions and the page."""
