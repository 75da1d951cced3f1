// /docs: Swagger UI on this node's own /openapi.json. "Try it out" sends
// its requests to this node (the document's servers are replaced by this
// page's origin), with the token from Swagger UI's "Authorize" dialog
// (bearerAuth). When the node has a read token, the page asks for it
// first, keeps it in this tab's sessionStorage only, and authorizes with
// it.
'use strict';

(function () {
  const tokenKey = 'cqrsd.token';
  const status = document.getElementById('docs-status');
  const form = document.getElementById('token-form');
  const input = document.getElementById('token-input');

  function say(text) {
    status.textContent = text;
  }

  function fetchDocument(token) {
    const headers = { Accept: 'application/json' };
    if (token) headers.Authorization = 'Bearer ' + token;
    return fetch('/openapi.json', { headers, cache: 'no-cache' });
  }

  // Resolves with the token the user submits.
  function askForToken(reason) {
    say(reason);
    form.hidden = false;
    input.focus();
    return new Promise((resolve) => {
      form.addEventListener('submit', function submitted(event) {
        event.preventDefault();
        form.removeEventListener('submit', submitted);
        resolve(input.value);
      });
    });
  }

  async function start() {
    if (typeof window.SwaggerUIBundle !== 'function') {
      say('Swagger UI is not installed in this node\'s web folder ' +
          '(docs/swagger-ui-bundle.js is missing): build with ' +
          'scripts/build.sh, which installs the npm package swagger-ui-dist. ' +
          'The API document itself is at /openapi.json.');
      return;
    }
    let token = sessionStorage.getItem(tokenKey) || '';
    let answer = await fetchDocument(token);
    while (answer.status === 401) {
      token = await askForToken(token
        ? 'That token was refused. Enter the read or write token.'
        : 'This node needs a token to read its API document.');
      answer = await fetchDocument(token);
    }
    if (!answer.ok) {
      say('GET /openapi.json answered ' + answer.status + '.');
      return;
    }
    form.hidden = true;
    say('');
    if (token) sessionStorage.setItem(tokenKey, token);
    const spec = await answer.json();
    spec.servers = [{ url: window.location.origin, description: 'this node' }];
    const ui = window.SwaggerUIBundle({
      spec,
      dom_id: '#swagger-ui',
      deepLinking: true,
      displayRequestDuration: true,
      docExpansion: 'list',
      validatorUrl: null,
    });
    if (token) ui.preauthorizeApiKey('bearerAuth', token);
  }

  start().catch((err) => say('The API docs failed to load: ' + err.message));
})();
