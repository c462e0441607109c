// The app's backend, reached from the customer account with the session token Shopify gives the
// extension: the app verifies it (HS256, aud = the app's API key, dest = the shop, sub = the
// customer) and answers that customer's loyalty only.

// Must be shopify.app.toml's application_url (a test keeps them equal): the extension runs on
// Shopify's origin, so it names the app's host itself.
export const APP_URL = 'https://nearstock.example.com';
export const LOYALTY_PATH = '/api/customer-account/loyalty';

/** The signed-in customer's loyalty, as GET /api/customer-account/loyalty answers it. */
export async function fetchLoyalty() {
  const token = await shopify.sessionToken.get();
  const response = await fetch(`${APP_URL}${LOYALTY_PATH}`, {
    headers: {Authorization: `Bearer ${token}`, Accept: 'application/json'},
  });
  if (!response.ok) throw new Error(`loyalty request failed: HTTP ${response.status}`);
  return response.json();
}
