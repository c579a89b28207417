"""The add-on's web panel: Home Assistant ingress (sidebar "Porchlight") and standalone use.

`ingress` decides who may reach the ingress port and who the user is; `routes` serves the
page's static files with its security headers; `sessions` lets the standalone page fetch
pictures and clips with the token it was given once.
"""
