/**
 * The Shopify side of the browser tests: the same fake of the Admin API and token endpoint that
 * the workerd tests use (test/fakes/shopify-admin.ts, loaded by Node's type stripping), served
 * over HTTP on a loopback port. The worker under test reaches it through SHOPIFY_ADMIN_ORIGIN.
 */
import { createServer } from "node:http";
import { ShopifyAdminFake } from "../fakes/shopify-admin.ts";

export const E2E_SHOPIFY = {
  clientId: "laurel-e2e-client",
  shopDomain: "laurel-e2e.myshopify.com",
};

/** Starts the fake; `stop()` closes it. */
export function startShopifyAdmin(clientSecret) {
  const fake = new ShopifyAdminFake({ clientId: E2E_SHOPIFY.clientId, clientSecret, shopDomain: E2E_SHOPIFY.shopDomain });
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = chunks.length ? Buffer.concat(chunks) : undefined;
    try {
      const answer = await fake.fetch(
        new Request(`http://${req.headers.host}${req.url}`, { method: req.method, headers: req.headers, body: req.method === "GET" ? undefined : body }),
      );
      res.writeHead(answer.status, Object.fromEntries(answer.headers));
      res.end(Buffer.from(await answer.arrayBuffer()));
    } catch (error) {
      // A scripted network fault: drop the connection, as a failing network would.
      req.socket.destroy(error);
    }
  });
  return new Promise((resolve, reject) => {
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      resolve({ fake, origin: `http://127.0.0.1:${port}`, stop: () => server.close() });
    });
  });
}
