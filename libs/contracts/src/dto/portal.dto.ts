import { ApiProperty } from '@nestjs/swagger';
import { ApiTimestamp } from './api-property-helpers';

export class PortalLinkDto {
  @ApiProperty({
    description:
      'Opens the partner portal once, within 15 minutes; opening it sets the portal session cookie (8 hours) and redirects to /portal.',
    example: 'https://callbacks.example.com/portal/sign-in/5mQ0w8zJrV1nX2cK4pL6tY8uA0bC2dE4fG6hI8jK0lM',
  })
  url: string;

  @ApiTimestamp('When the link stops working if unused.')
  expiresAt: string;
}
