// Shopify fixtures are read as raw text: their 64-bit ids do not survive a JSON module import.
declare module "*.json?raw" {
  const text: string;
  export default text;
}
