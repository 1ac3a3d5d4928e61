import { Construct } from "constructs";
import { BudgetsBudget } from "@cdktf/provider-aws/lib/budgets-budget";

export interface BudgetProps {
  /** Prefix of the budget's name, e.g. the environment's name. */
  readonly namePrefix: string;
  /** Monthly cost budget in USD, > 0. */
  readonly monthlyUsd: number;
  /** Percentages of the budget (0..100, or above) at which actual spend is notified; at least one. */
  readonly alertThresholdsPercent: readonly number[];
  /** Addresses notified at each threshold; at least one. */
  readonly notifyEmails: readonly string[];
}

/** A monthly AWS cost budget with an e-mail notification at each threshold of actual spend. */
export class Budget extends Construct {
  /** The budget's name. */
  readonly budgetName: string;

  constructor(scope: Construct, id: string, props: BudgetProps) {
    super(scope, id);
    if (props.alertThresholdsPercent.length === 0 || props.notifyEmails.length === 0) {
      throw new Error(`${props.namePrefix}: a budget needs at least one threshold and one e-mail address`);
    }
    const budget = new BudgetsBudget(this, "monthly", {
      name: `${props.namePrefix}-monthly-cost`,
      budgetType: "COST",
      limitAmount: props.monthlyUsd.toFixed(2),
      limitUnit: "USD",
      timeUnit: "MONTHLY",
      notification: props.alertThresholdsPercent.map((threshold) => ({
        comparisonOperator: "GREATER_THAN",
        threshold,
        thresholdType: "PERCENTAGE",
        notificationType: "ACTUAL",
        subscriberEmailAddresses: [...props.notifyEmails],
      })),
    });
    this.budgetName = budget.name;
  }
}
