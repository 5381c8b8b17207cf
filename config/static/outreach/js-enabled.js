// Runs first in <body>: lets the NHS.UK styles know JavaScript is on (instead of an inline script,
// which the Content Security Policy does not allow).
document.body.className += " js-enabled" + ("noModule" in HTMLScriptElement.prototype ? " nhsuk-frontend-supported" : "");
