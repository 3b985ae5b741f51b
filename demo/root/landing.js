// Referral links point at the shop's origin (`/?ref=CODE`). Locally that origin serves this
// page, so when the demo shop is on, a referee is taken to it with the code.
if (new URLSearchParams(location.search).has("ref")) {
  fetch("/demo/", { method: "HEAD" })
    .then((response) => {
      if (response.ok) location.replace(`/demo/${location.search}`);
    })
    .catch(() => {});
}
