// The explorer of /openapi.json (HTTP.md `GET /docs`), served by casia from
// the vendored swagger-ui-dist package: no CDN, no inline script.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: false,
    tryItOutEnabled: false,
  });
});
