"use strict";

(function frame() {
  const iframe = document.createElement("iframe");
  iframe.setAttribute("sandbox", "allow-forms allow-scripts");
  iframe.title = "form";
  iframe.src = `index.html${location.hash}`;
  document.body.append(iframe);
})();
