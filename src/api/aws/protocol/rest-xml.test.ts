import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeChunked, ChunkedBodyError } from './aws-chunked.js';
import { childText, childrenNamed, parseXml, restXmlError, xmlDocument, XmlSyntaxError } from './rest-xml.js';

describe('rest-xml: parseXml', () => {
  it('reads elements, namespaces, attributes, entities, character references and CDATA', () => {
    const root = parseXml(
      '<?xml version="1.0" encoding="UTF-8"?>\n<!-- c --><s3:Delete xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/"><Object a=\'1\'><Key>a&amp;b &lt;&#233;&#x1F600;&gt;</Key></Object><Object><Key><![CDATA[<raw>]]></Key></Object><Quiet>true</Quiet></s3:Delete>',
    );
    assert.equal(root.name, 'Delete');
    assert.deepEqual(
      childrenNamed(root, 'Object').map((o) => childText(o, 'Key')),
      ['a&b <\u00e9\u{1F600}>', '<raw>'],
    );
    assert.equal(childText(root, 'Quiet'), 'true');
  });

  it('refuses what is not well-formed, DTDs, unknown entities and unbounded nesting', () => {
    for (const text of [
      '',
      'plain',
      '<a>',
      '<a></b>',
      '<a></a><b/>',
      '<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>',
      '<a>&x;</a>',
      '<a>&#xD800;</a>',
      '<a>&#0;</a>',
      '<a>&#x1F;</a>',
      '<a>&#xFFFE;</a>',
      '<a>\u0000</a>',
      '<a>\u0001</a>',
      '<a b=c/>',
      `${'<a>'.repeat(40)}${'</a>'.repeat(40)}`,
    ]) {
      assert.throws(() => parseXml(text), XmlSyntaxError, JSON.stringify(text.slice(0, 40)));
    }
  });
});

describe('rest-xml: writing', () => {
  it('repeats list elements, escapes text, writes dates in ISO-8601, leaves undefined out', () => {
    assert.equal(
      xmlDocument('R', { A: ['x<', 'y'], B: { C: new Date(0), D: undefined, E: true } }),
      '<?xml version="1.0" encoding="UTF-8"?>\n<R xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><A>x&#60;</A><A>y</A><B><C>1970-01-01T00:00:00.000Z</C><E>true</E></B></R>',
    );
  });

  it('writes a control character as a character reference, never raw; tab and line feed stay', () => {
    assert.equal(
      xmlDocument('R', { K: 'a\u0000b\u001fc\td\ne\r' }),
      '<?xml version="1.0" encoding="UTF-8"?>\n<R xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><K>a&#x0;b&#x1F;c\td\ne&#13;</K></R>',
    );
  });

  it('an error has no body for HEAD', () => {
    const get = restXmlError('GET', 404, 'NoSuchKey', 'The specified key does not exist.', 'r1', { Key: 'k' });
    assert.match(
      String(get.body),
      /<Error><Code>NoSuchKey<\/Code><Message>The specified key does not exist\.<\/Message><Key>k<\/Key><RequestId>r1<\/RequestId>/,
    );
    assert.equal(restXmlError('HEAD', 404, 'NoSuchKey', 'm', 'r1').body, '');
  });
});

describe('aws-chunked: decodeChunked', () => {
  it('joins the chunks and reads trailers and their signature', () => {
    const body = Buffer.from(
      '3;chunk-signature=' +
        'a'.repeat(64) +
        '\r\nabc\r\n0;chunk-signature=' +
        'b'.repeat(64) +
        '\r\nx-amz-checksum-crc32:AAAA\r\nx-amz-trailer-signature:' +
        'c'.repeat(64) +
        '\r\n\r\n',
    );
    const out = decodeChunked(body);
    assert.equal(out.data.toString(), 'abc');
    assert.deepEqual(
      out.chunks.map((c) => [c.data.length, c.signature?.[0]]),
      [
        [3, 'a'],
        [0, 'b'],
      ],
    );
    assert.deepEqual(out.trailers, [['x-amz-checksum-crc32', 'AAAA']]);
    assert.equal(out.trailerSignature, 'c'.repeat(64));
    assert.equal(decodeChunked(Buffer.from('2\r\nhi\r\n0\r\n\r\n')).data.toString(), 'hi');
  });

  it('refuses framing that lies about sizes or ends early', () => {
    for (const text of [
      '5\r\nabc\r\n0\r\n\r\n',
      'zz\r\nabc\r\n',
      '3\r\nabcXX0\r\n\r\n',
      '3\r\nabc\r\n',
      '3\r\nabc\r\n0\r\n\r\nextra',
      'ffffffffffffffff\r\n',
    ]) {
      assert.throws(() => decodeChunked(Buffer.from(text)), ChunkedBodyError, JSON.stringify(text));
    }
  });
});
