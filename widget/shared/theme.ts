/**
 * Theme tokens from the merchant's branding, as CSS custom properties on the widget's :host.
 * Merchant colours are corrected where needed so that text keeps WCAG AA contrast (4.5:1).
 */

const HEX = /^#[0-9a-f]{6}$/i;

function channels(hex: string): number[] {
  return [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));
}

/** Relative luminance (WCAG 2.x). */
export function luminance(hex: string): number {
  const [r, g, b] = channels(hex).map((c) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

export function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

/** `preferred` on `background` if it reads at AA, else black or white, whichever reads better. */
export function readableOn(background: string, preferred: string): string {
  if (contrast(background, preferred) >= 4.5) return preferred;
  return contrast(background, "#ffffff") >= contrast(background, "#111111") ? "#ffffff" : "#111111";
}

/** The colour darkened step by step until it reads at AA on white (for links and small text). */
export function darkenForWhite(hex: string): string {
  let [r, g, b] = channels(hex) as [number, number, number];
  let colour = hex;
  while (contrast(colour, "#ffffff") < 4.5) {
    [r, g, b] = [r, g, b].map((c) => Math.floor(c * 0.9)) as [number, number, number];
    colour = `#${[r, g, b].map((c) => c.toString(16).padStart(2, "0")).join("")}`;
  }
  return colour;
}

export interface Branding {
  primaryColor?: string;
  textColor?: string;
  launcherOffset?: number;
}

/** `--laurel-primary`, `--laurel-on-primary`, `--laurel-accent`, `--laurel-offset` for :host. */
export function themeVariables(branding: Branding): string {
  const primary = HEX.test(branding.primaryColor ?? "") ? branding.primaryColor! : "#1f6feb";
  const text = HEX.test(branding.textColor ?? "") ? branding.textColor! : "#ffffff";
  const offset = Math.min(200, Math.max(0, Math.round(branding.launcherOffset ?? 20)));
  return `--laurel-primary:${primary};--laurel-on-primary:${readableOn(primary, text)};--laurel-accent:${darkenForWhite(primary)};--laurel-offset:${offset}px`;
}
