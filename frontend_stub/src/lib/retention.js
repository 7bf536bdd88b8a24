// How long a recording and its result are kept (each result document's expire_at), in words.

/** "Kept until 3 January 2027", or "" when the date is missing or unreadable. */
export function keptUntilText(expireAt, { locale, timeZone } = {}) {
  const date = new Date(expireAt ?? "");
  if (!expireAt || Number.isNaN(date.getTime())) return "";
  return `Kept until ${date.toLocaleDateString(locale, { dateStyle: "long", timeZone })}`;
}
