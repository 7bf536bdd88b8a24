// The visitor's uploads, newest first. They come from the results API (GET /results, page by page),
// so they follow the account to any browser; this session's uploads that the pipeline has not
// recorded yet are merged in until it has.
import { labelText } from "./labels.js";
import { fileNameOf } from "./objectName.js";

export const HISTORY_PAGE_SIZE = 10;

// Before accounts, this browser kept a list of upload names here; they belong to no one now.
const LEGACY_HISTORY_KEY = "coughcloud.history.v1";

/** Drop the list an older version of the page kept in this browser. */
export function forgetLegacyHistory(storage) {
  storage.removeItem(LEGACY_HISTORY_KEY);
}

/** What a history entry shows of a result document: its status, label (and the label's text), expiry. */
export function resultFields(doc) {
  return {
    status: doc.status,
    label: doc.label ?? null,
    labelText: doc.label ? labelText(doc.label, doc.model) : null,
    expireAt: doc.expire_at ?? null,
  };
}

/** A history entry for a result document from the API. */
export function entryFromResult(doc) {
  return { name: doc.name, fileName: fileNameOf(doc.name), uploadedAt: doc.created_at ?? null, ...resultFields(doc) };
}

const time = (entry) => Date.parse(entry.uploadedAt ?? "") || 0;

/** Insert or update (by object name) each of `updates`; the result is sorted newest first. */
export function mergeEntries(entries, updates) {
  const byName = new Map(entries.map((entry) => [entry.name, entry]));
  for (const update of updates) byName.set(update.name, { ...byName.get(update.name), ...update });
  return [...byName.values()].sort((a, b) => time(b) - time(a));
}

/** The entries without the one named `name`. */
export function withoutEntry(entries, name) {
  return entries.filter((entry) => entry.name !== name);
}

/**
 * Paging through GET /results: `firstPage()` starts over, `nextPage()` fetches the page after the
 * last one fetched; `hasMore` says whether there is one. Each resolves to its page's entries.
 */
export function createHistoryPager(api, pageSize = HISTORY_PAGE_SIZE) {
  let token = null;
  async function fetchPage(pageToken) {
    const page = await api.listResults({ limit: pageSize, pageToken });
    token = page.next_page_token ?? null;
    return (page.results ?? []).map(entryFromResult);
  }
  return {
    get hasMore() {
      return token !== null;
    },
    firstPage: () => fetchPage(null),
    nextPage: () => fetchPage(token),
  };
}
