// Boots Swagger UI on /api/v1/docs. Its standalone preset is left out: it injects a <style>
// element, which the page's CSP (everything from 'self', nothing inline) forbids.
(function () {
  "use strict";
  window.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("swagger-ui");
    window.ui = window.SwaggerUIBundle({
      url: root.dataset.specUrl,
      dom_id: "#swagger-ui",
      presets: [window.SwaggerUIBundle.presets.apis],
      layout: "BaseLayout",
      validatorUrl: null, // no badge fetched from validator.swagger.io
      deepLinking: true,
      defaultModelsExpandDepth: 1
    });
  });
})();
