// This browser's uploads, newest first, kept in localStorage so they can be reopened.

export const HISTORY_KEY = "coughcloud.history.v1";
export const HISTORY_LIMIT = 25;

/** The stored entries, or [] when there are none or they are unreadable. */
export function loadHistory(storage) {
  try {
    const entries = JSON.parse(storage.getItem(HISTORY_KEY) ?? "[]");
    return Array.isArray(entries) ? entries.filter((e) => e && typeof e.name === "string") : [];
  } catch {
    return [];
  }
}

/** Insert or update (by object name) one entry, keep the newest HISTORY_LIMIT, save, return the list. */
export function upsertHistory(storage, entry) {
  const entries = loadHistory(storage);
  const index = entries.findIndex((e) => e.name === entry.name);
  if (index >= 0) entries[index] = { ...entries[index], ...entry };
  else entries.unshift(entry);
  const kept = entries.slice(0, HISTORY_LIMIT);
  storage.setItem(HISTORY_KEY, JSON.stringify(kept));
  return kept;
}

/** Forget every entry. */
export function clearHistory(storage) {
  storage.removeItem(HISTORY_KEY);
  return [];
}
