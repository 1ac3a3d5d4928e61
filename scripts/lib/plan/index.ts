/** terraform's plan JSON, read once (model.ts), and what the engine knows per resource type (catalogue.ts). */
export * from "./model";
export * from "./catalogue";
