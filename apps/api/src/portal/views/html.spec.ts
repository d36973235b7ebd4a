import { escapeHtml, html } from './html';

describe('portal html templates', () => {
  it('escapes every interpolated value, including attribute quotes', () => {
    const hostile = `"><script>alert('x')</script>&`;
    expect(html`<a title="${hostile}">${hostile}</a>`.text).toBe(
      '<a title="&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;">&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;</a>',
    );
  });

  it('nests templates without escaping them twice, and renders lists and empty values', () => {
    const items = ['<b>', 'c&d'].map((item) => html`<li>${item}</li>`);
    // Prettier would reflow the template's markup, and its whitespace is part of what this checks:
    // prettier-ignore
    expect(html`<ul>${items}</ul>${null}${undefined}${false}${0}`.text).toBe('<ul><li>&lt;b&gt;</li><li>c&amp;d</li></ul>0');
  });

  it('escapes backticks too', () => expect(escapeHtml('`')).toBe('&#96;'));
});
