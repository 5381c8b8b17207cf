// Start the NHS.UK components on the page, and again on every fragment htmx swaps in.
// The frontend's file name carries a fingerprint in production, so the page passes its address.
const script = document.querySelector("script[data-nhsuk-frontend]");

async function start() {
  const nhsuk = await import(script.dataset.nhsukFrontend);
  nhsuk.initAll(document);
  document.body.addEventListener("htmx:afterSettle", (event) => {
    nhsuk.initAll(event.detail.elt);
    // An error summary that arrives with a fragment takes the focus, as on a full page.
    const summary = event.detail.elt.querySelector(".nhsuk-error-summary");
    if (summary) summary.focus();
  });
}

start();
