"""The Content-Security-Policy on every response: Muster's pages run only their own static scripts and styles.

No inline script, no inline style (neither <style> elements nor style attributes), nothing from another origin:
an injected <script> or style does nothing, and a page of ours cannot be framed. Images may also be data: URLs
(Swagger UI draws its icons with them).
"""

POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", POLICY)
        return response
