import type { Catalog } from "./i18n";

/** What laurel.js itself needs before the panel loads: keep this short, it ships in every page. */
export const coreMessages: Catalog = {
  en: {
    launcher: "Rewards",
    points: "{n} point|{n} points",
    earn: "Earn {n} point|Earn {n} points",
    balanceNow: "Your balance is now {points}",
  },
  tr: {
    launcher: "Ödüller",
    points: "{n} puan",
    earn: "{n} puan kazanın",
    balanceNow: "Bakiyeniz artık {points}",
  },
  de: {
    launcher: "Prämien",
    points: "{n} Punkt|{n} Punkte",
    earn: "{n} Punkt sammeln|{n} Punkte sammeln",
    balanceNow: "Ihr Punktestand: {points}",
  },
  fr: {
    launcher: "Récompenses",
    points: "{n} point|{n} points",
    earn: "Gagnez {n} point|Gagnez {n} points",
    balanceNow: "Votre solde est maintenant de {points}",
  },
  es: {
    launcher: "Recompensas",
    points: "{n} punto|{n} puntos",
    earn: "Gana {n} punto|Gana {n} puntos",
    balanceNow: "Tu saldo ahora es de {points}",
  },
};
