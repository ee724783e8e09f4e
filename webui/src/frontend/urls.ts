/** Strips trailing slashes and drops empty rows, as Open WebUI's Save does. */
export function cleanUrls(urls: string[]): string[] {
  return urls.map((u) => u.trim().replace(/\/+$/, '')).filter((u) => u !== '');
}
