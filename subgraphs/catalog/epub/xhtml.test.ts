import { describe, expect, it } from 'vitest';
import { countWords, normalizeWhitespace, splitLongParagraph } from './text.js';
import { extractText, sanitizeChapterHtml } from './xhtml.js';
import { titlesFromNav, titlesFromNcx } from './nav.js';
import { resolveHref } from './paths.js';
import { normalizeIsbn } from './opf.js';

describe('extractText', () => {
  it('turns block elements into paragraphs and inline elements into running text', () => {
    const { blocks, firstHeading } = extractText(
      '<html><head><title>Not text</title><style>p{}</style></head><body>' +
        '<section><h2>  The <em>First</em>\n Heading </h2><p>One <b>bold</b> word.</p>' +
        '<div>Intro<p>Nested</p>tail</div><blockquote>Quoted</blockquote><ul><li>a</li><li>b</li></ul>' +
        '<table><tr><td>cell 1</td><td>cell 2</td></tr></table><pre>  keep   me </pre>line<br/>break</section></body></html>',
    );
    expect(firstHeading).toBe('The First Heading');
    expect(blocks).toEqual(['The First Heading', 'One bold word.', 'Intro', 'Nested', 'tail', 'Quoted', 'a', 'b', 'cell 1', 'cell 2', 'keep me', 'line break']);
  });

  it('decodes entities, drops script/style/noscript/template/svg/math and ruby annotations', () => {
    const { blocks } = extractText(
      '<p>Fish &amp; chips &lt;3 &#x4E2D;&#25991; caf&eacute;</p><script>x()</script><template><p>T</p></template>' +
        '<math><mi>x</mi></math><svg><text>S</text></svg><noscript>N</noscript><p><ruby>汉<rt>hàn</rt>字<rt>zì</rt></ruby></p>',
    );
    expect(blocks).toEqual(['Fish & chips <3 中文 café', '汉字']);
  });

  it('joins Chinese lines wrapped in the source without inserting spaces', () => {
    expect(extractText('<p>山里的雾\n    慢慢升起来，Latin\n  words keep spaces.</p>').blocks).toEqual(['山里的雾慢慢升起来，Latin words keep spaces.']);
  });
});

describe('sanitizeChapterHtml', () => {
  it('keeps basic formatting and relative links, drops everything active or remote', () => {
    const html = sanitizeChapterHtml(
      '<body onload="x()"><h1 class="t" id="a">Title</h1><p lang="zh">段落 <em>em</em> <a href="ch2.xhtml#n1">next</a>' +
        ' <a href="//evil.example/">proto</a> <a href="data:text/html,x">data</a></p><img src="a.png"/><link rel="stylesheet" href="http://x/"/></body>',
    );
    expect(html).toBe('<h1>Title</h1><p lang="zh">段落 <em>em</em> <a href="ch2.xhtml#n1">next</a> <a>proto</a> <a>data</a></p>');
  });
});

describe('text helpers', () => {
  it('counts CJK characters singly and other words by whitespace', () => {
    expect(countWords('Hello, world! 你好世界。 It’s 2024 — ok')).toBe(4 + 4 + 1);
    expect(countWords('日本語のテキスト')).toBe(8);
    expect(countWords('  ')).toBe(0);
  });

  it('normalises whitespace including nbsp and zero-width spaces', () => {
    expect(normalizeWhitespace('\n  a\u00a0\u00a0b\t\u200bc  ')).toBe('a b c');
  });

  it('splits long text without losing characters or breaking surrogate pairs', () => {
    const text = '😀'.repeat(30);
    const pieces = splitLongParagraph(text, 7);
    expect(pieces.join('')).toBe(text);
    for (const piece of pieces) expect(piece.length).toBeLessThanOrEqual(7);
    expect(splitLongParagraph('第一句话。第二句话。第三句话。', 8)).toEqual(['第一句话。', '第二句话。', '第三句话。']);
  });
});

describe('table of contents and paths', () => {
  it('reads nav[epub:type=toc], ignoring other navs, fragments and duplicates', () => {
    const titles = titlesFromNav(
      '<html><body><nav epub:type="landmarks"><a href="cover.xhtml">Cover</a></nav>' +
        '<nav epub:type="toc"><ol><li><a href="text/c1.xhtml">One</a><ol><li><a href="text/c1.xhtml#s2">One, part 2</a></li></ol></li>' +
        '<li><a href="text/c%202.xhtml#top"> Two\n &amp; more </a></li></ol></nav></body></html>',
      'OEBPS/nav.xhtml',
    );
    expect([...titles]).toEqual([
      ['OEBPS/text/c1.xhtml', 'One'],
      ['OEBPS/text/c 2.xhtml', 'Two & more'],
    ]);
  });

  it('reads nested NCX navPoints in order', () => {
    const titles = titlesFromNcx(
      '<ncx><navMap><navPoint><navLabel><text>Part I</text></navLabel><content src="p1.html"/>' +
        '<navPoint><navLabel><text>Chapter 1</text></navLabel><content src="c1.html"/></navPoint></navPoint></navMap></ncx>',
      'toc.ncx',
    );
    expect([...titles]).toEqual([
      ['p1.html', 'Part I'],
      ['c1.html', 'Chapter 1'],
    ]);
  });

  it('resolves hrefs inside the zip only', () => {
    expect(resolveHref('OEBPS/content.opf', 'text/../ch1.xhtml#x')).toBe('OEBPS/ch1.xhtml');
    expect(resolveHref('OEBPS/content.opf', '../../etc/passwd')).toBeUndefined();
    expect(resolveHref('OEBPS/content.opf', 'https://example.com/a.xhtml')).toBeUndefined();
  });

  it('recognises only checksum-valid ISBNs', () => {
    expect(normalizeIsbn('urn:isbn:978-0-306-40615-7')).toBe('9780306406157');
    expect(normalizeIsbn('0-306-40615-2')).toBe('0306406152');
    expect(normalizeIsbn('978-0-306-40615-8')).toBeUndefined();
    expect(normalizeIsbn('urn:uuid:1234')).toBeUndefined();
  });
});
