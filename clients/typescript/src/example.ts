/**
 * What a frontend does with the client: list the caller's bids, then snipe an item.
 * Type-checked with the rest (`npm run typecheck`), so it cannot drift from the API.
 */
import { type ApiError, createSniperClient } from "./client";

/** Says what went wrong, naming each invalid field the API listed. */
export function describe(error: ApiError): string {
  const fields = (error.errors ?? []).map(
    (field) => `${field.field}: ${field.message}`,
  );
  return [`${error.statusCode} ${error.code}: ${error.message}`, ...fields].join("\n");
}

export async function example(
  apiUrl: string,
  getToken: () => Promise<string | null>,
): Promise<void> {
  const client = createSniperClient(apiUrl, getToken);

  const listed = await client.GET("/bids", {
    params: { query: { status: ["PENDING", "WON"], limit: 20 } },
  });
  if (listed.error) {
    throw new Error(describe(listed.error));
  }
  for (const bid of listed.data.items) {
    console.log(bid.bidId, bid.ebayItemId, bid.status, bid.maxBidAmount);
  }

  const created = await client.POST("/bids", {
    body: { ebayItemId: "110000000001", maxBidAmount: 2_500, snipeLeadSeconds: 5 },
  });
  if (created.error) {
    // 409: an active bid on this item exists; 400: the message says why (too late,
    // below eBay's minimum next bid); 401 EBAY_NOT_LINKED: link eBay first.
    if (created.error.code === "EBAY_NOT_LINKED") {
      console.log("link your eBay account first");
      return;
    }
    throw new Error(describe(created.error));
  }
  console.log("sniping at", created.data.targetTime, created.response.headers.get("Location"));
}
