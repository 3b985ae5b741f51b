/** The closing-the-loop figures of an analytics answer, for console tests (their own file, so other fixtures stay short). */
export function loopAnalyticsFixture() {
  return {
    ces: 75,
    csat: 66.7,
    cli: 12.5,
    feedbackCount: 9,
    feedbackResponses: { ces: 4, csat: 3, program: 2 },
    feedbackTrend: [
      { month: "2026-10", ces: null, csat: null, cli: null, feedbackCount: 0 },
      { month: "2026-11", ces: 75, csat: 66.7, cli: 12.5, feedbackCount: 9 },
    ],
    winBack: { offered: 4, converted: 1, revenue: "35.00" },
    donations: { count: 3, value: "15.00" },
    incrementality: {
      holdoutPercent: 10,
      programMembers: 11,
      holdoutMembers: 1,
      buyers: { program: 5, holdout: 1 },
      repeatPurchaseRate: { program: 0.6, holdout: 0 },
      averageOrderValue: { program: "24.00", holdout: "10.00" },
      averageLifetimeValue: { program: "42.10", holdout: "10.00" },
      significance: {
        test: "two-proportion z-test on the repeat purchase rate, 95%",
        z: 1.1,
        significant: false,
        warning: "Too few customers to conclude anything yet: each group needs at least 30 buyers in the period (program 5, holdout 1).",
      },
    },
  };
}
