// Loads each HTML file in headless Chromium, runs axe-core on it, prints {file: [violations]} as JSON.
// Usage: node axe.mjs CHROMIUM FILE...
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const [executablePath, ...files] = process.argv.slice(2);
const axeSource = readFileSync(new URL('./node_modules/axe-core/axe.min.js', import.meta.url), 'utf8');
const browser = await chromium.launch({
  executablePath,
  headless: true,
  // playwright gives every launch a fresh, temporary user data dir
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const results = {};
try {
  const page = await browser.newPage();
  for (const file of files) {
    await page.goto(`file://${file}`);
    await page.addScriptTag({ content: axeSource });
    const outcome = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
    results[file] = outcome.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')),
    }));
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(results, null, 1));
