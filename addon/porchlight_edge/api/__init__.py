"""The API: websocket commands and events, HTTP media routes, auth and connection limits."""
