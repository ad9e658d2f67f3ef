"""The local stack: the template's API, functions and AWS on localhost (`make dev`).

Dev-only: it never ships in a layer. Production code does not know it runs here;
only endpoint settings differ (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_LAMBDA`).
"""
